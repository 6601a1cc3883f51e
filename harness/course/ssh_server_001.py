# Course notes, lesson 001 (模拟ssh远程登录): the server ("服务端："), transcribed.
# Changes, only to make it run: `import sys` and PORT/HOST added, taken from the command line:
# python3 ssh_server_001.py [PORT] [HOST] (defaults 8082 127.0.0.1, as the notes). Nothing else.
import socket
import subprocess
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8082
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET,socket.SOCK_STREAM)
phone.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
phone.bind((HOST,PORT)) # ip 加端口号
phone.listen(5) # 5代表最大链接数

print('starting....')
while True: # 链接循环
    conn,client_addr = phone.accept()

    while True: # 通讯循环
        try:
            # 1 接受命令
            cmd = conn.recv(1024)
            # 针对客户端中断问题
            if not cmd:break # 适用于linux　如果是windows就 try catch
            # 2 执行命令，拿到结果
            obj = subprocess.Popen(cmd.decode('gbk'),shell=True,stdout=subprocess.PIPE,stderr=subprocess.PIPE)
            stdout = obj.stdout.read().decode('gbk')
            stderr = obj.stderr.read().decode('gbk')
            # 3 把命令结果返回给客户端
            data = stdout+stderr
            print(len(data))
            conn.send(data.encode('gbk'))
        except ConnectionResetError: # 适用于windows
            break
    conn.close()

phone.close()
