# Course notes, lesson 001 (模拟ssh远程登录): the client ("客户端"), transcribed.
# Changes, only to make it run: `import sys` and PORT/HOST added, taken from the command line:
# python3 ssh_client_001.py [PORT] [HOST] (defaults 8082 127.0.0.1, as the notes). Nothing else.
import socket
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8082
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET,socket.SOCK_STREAM)
phone.connect((HOST,PORT)) # ip 加端口号

while True:
    # 1 发命令
    cmd = input('>>:').strip()
    phone.send(cmd.encode('gbk'))
    # 2 拿到命令结果
    data = phone.recv(1024) # 1024的坑
    print(data.decode('gbk'))

phone.close()
