# Course notes, lesson 000 (模拟SSH, subprocess): the hello/world server ("服务端：", 粘包的产生).
# Changes, only to make it run: `import sys` and PORT/HOST added, taken from the command line:
# python3 hello_server_000.py [PORT] [HOST] (defaults 8081 127.0.0.1, as the notes). Nothing else:
# one program, recv(1024) three times then recv(1) and recv(1024), as in the notes.
import socket
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

phone.bind((HOST,PORT))

phone.listen(5)

print('starting')
conn,caddr = phone.accept()

#1、打印helloworld，产生了粘包
cmd1 = conn.recv(1024)
print(cmd1)

#2、服务端接收一次数据后，完整的接收了客户端发送的数据，此时管道中没有残留数据，并在第二次接收数据时接收到了world，没有产生粘包，那么就意味着完整接收数据后就不会产生粘包
cmd1 = conn.recv(1024)
#打印hello
print(cmd1)
cmd2 = conn.recv(1024)
#打印world
print(cmd2)

#1-3、如果第一次只接收一个bytes，那么在第二次接收时，就会接收到第一次的残留数据ello+world
#接收到h
cmd1 = conn.recv(1)
print(cmd1)
#接收到elloworld
cmd2 = conn.recv(1024)
print(cmd2)

conn.close()

phone.close()
