# Course notes, lesson 000 (模拟SSH, subprocess): the "simple fix" server (解决粘包：简单版, #服务端).
# Changes, only to make it run: `import sys` and PORT/HOST added, taken from the command line:
# python3 fix_server_000.py [PORT] [HOST] (defaults 8081 127.0.0.1, as the notes). Nothing else.
# Note: the notes' fix client connects to 8090, this server listens on 8081: give both one port.
#服务端
import socket
import subprocess
import struct
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

server = socket.socket(socket.AF_INET,socket.SOCK_STREAM)

server.bind((HOST,PORT))

server.listen(5)

while True:
    conn,addr = server.accept()

    while True:
        cmd = conn.recv(1024)
        if not cmd:
            break
        obj = subprocess.Popen(cmd.decode('utf-8'),
                         shell = True,
                         stdout = subprocess.PIPE,
                         stderr = subprocess.PIPE)
        stdout = obj.stdout.read()
        stderr = obj.stderr.read()

        total_size = len(stdout)+len(stderr)
        #1、制定固定长度的报头，通过struct模块的pack方法，将i（integer）参数的数据长度进行封装为bytes类型的报头
        header = struct.pack('i',total_size)
        #2、把报头固定长度发给客户端，header本身就是bytes类型，所以可以直接发送
        conn.send(header)

        conn.send(stdout)
        conn.send(stderr)
    conn.close()

server.close()
