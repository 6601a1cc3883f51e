# Course notes, lesson 000 (模拟SSH, subprocess): the hello/world client ("客户端：", 粘包的产生).
# Changes, only to make it run: `import sys` and PORT/HOST added, taken from the command line:
# python3 hello_client_000.py [PORT] [HOST] (defaults 8081 127.0.0.1, as the notes). Nothing else:
# both halves (#1 and #2) stay one program, as in the notes, sleep included (see run_scaled.py).
import socket
import time
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

phone.connect((HOST,PORT))
#1、客户端发送数据量小，时间间隔短时会产生粘包，是Nagle优化算法
phone.send('hello'.encode('utf-8'))
phone.send('world'.encode('utf-8'))

#2、如果间隔5秒发送第二次消息，在服务端的第二次消息就会接收到world
phone.send('hello'.encode('utf-8'))
time.sleep(5)
phone.send('world'.encode('utf-8'))

phone.close()
