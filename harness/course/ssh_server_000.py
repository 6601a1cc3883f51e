# Course notes, lesson 000 (模拟SSH, subprocess): the server ("服务端"), transcribed.
# Changes, only to make it run: `import subproces` -> `import subprocess`; `if not cmd:` (one space
# too deep) and the tab-indented comment re-indented; `import sys` and PORT/HOST added, taken from
# the command line: python3 ssh_server_000.py [PORT] [HOST] (defaults 8081 127.0.0.1, as the notes).
import socket
import subprocess
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)

phone.bind((HOST,PORT))

phone.listen(5)

while True:
    print('starting')
    conn,caddr = phone.accept()

    while True:
        cmd = conn.recv(1024)
        if not cmd:
            break
        #客户端以什么样的编码发送命令，就以什么样的编码解码命令，windows时使用GBK编码
        obj = subprocess.Popen(cmd.decode('utf-8'),shell = True,
                         stdout = subprocess.PIPE,
                         stderr = subprocess.PIPE)
        #读取命令的执行结果，命令的结果就是bytes类型，所以可以直接使用send方法发送
        stdout = obj.stdout.read()
        stderr = obj.stderr.read()
       
        #stdout和stderr是通过+号连接起来的，实际上是重新创建内存空间，导致效率低
        conn.send(stdout+stderr)

    conn.close()

phone.close()
