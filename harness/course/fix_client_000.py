# Course notes, lesson 000 (模拟SSH, subprocess): the "simple fix" client (解决粘包：简单版, #客户端).
# Changes, only to make it run: the two tab-indented comments re-indented; `import sys` and PORT/HOST
# added, from the command line: python3 fix_client_000.py [PORT] [HOST]. The default port stays the
# notes' 8090 although the notes' fix server listens on 8081: the notes disagree; pass the port.
#客户端
import socket
import struct
import sys
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
HOST = sys.argv[2] if len(sys.argv) > 2 else '127.0.0.1'

ip_port = (HOST,PORT)

client = socket.socket(socket.AF_INET,socket.SOCK_STREAM)

client.connect(ip_port)

while True:
    cmd = input('>>>:')
    if not cmd:
        continue

    client.send(cmd.encode('GBK'))
    #1、客户端接收报头，接收stuct对象，struct包存放的是服务端传送数据的报头，包中封装着命令结果的数据长度，是bytes类型，长度是4，所以在客户端先接收4个字节长度的包，并通过struct模块的unpack解析数据包，得到数据长度
    header = client.recv(4)
    #2、从报头中解析对真实数据的描述信息
    total_size = struct.unpack('i',header)[0]
    #接收的bytes类型的数据结果，所以需要和提供的bytes类型空字符串相结合
    recv_data = b''
    recv_size = 0
    #针对数据结果的实际长度，循环接收结果内容
    while recv_size < total_size:
        data = client.recv(1024)
        recv_data += data
        recv_size += len(recv_data)
        print(recv_size)
    #3、打印数据结果
    print(recv_data.decode('GBK'))
