# Course notes, lesson 000 (模拟SSH, subprocess): the client ("客户端"), transcribed.
# Changes, only to make it run: `import sys` and PORT/HOST added, taken from the command line:
# python3 ssh_client_000.py [PORT] [HOST] (defaults 8081 127.0.0.1, as the notes). Nothing else.
import socket
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8081
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

phone = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

phone.connect((HOST,PORT))

while True:
    #粘包：就是在客户端没有接收完上次的结果，导致两次结果粘到了一起。当发送的命令是ls /时，返回的结果就会很少，在接收设置的1024个字节范围之内，但是当输入ifconfig后，接收的内容达到2826个，完全超出了1024个字节，所以第一次接收时只会输出1024个字节，导致在服务端到客户端发送信息的管道中积压的发送的数据，在IO缓冲区中积压了剩下的1082个字节，再次执行ls /命令时，命令的执行结果继续积压在了管道中，此时接收的是1082个字节中的1024个字节内容，仍是执行ifconfig命令残留的结果，这种现象被称为粘包现象，接收的是上一次残留的结果
    cmd = input('>>>:')
    if not cmd:
        continue
    phone.send(cmd.encode('utf-8'))
    #接收命令的返回结果时，1024是个坑
    data = phone.recv(1024)
    #将接收的bytes类型的命令结果解码为系统识别编码
    print(data.decode('utf-8'))

phone.close()
