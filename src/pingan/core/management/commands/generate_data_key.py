"""`pingan generate_data_key`: a new master key for the residents' phone and ID numbers."""

from django.core.management.base import BaseCommand

from pingan.core.crypto import generate_master_key

ADVICE = (
    "以上是新生成的数据密钥。部署时请设置环境变量 PINGAN_DATA_KEY=<上面这一行>"
    "（例如写入只有运行账号可读的服务环境配置文件），再启动 pingan。\n"
    "请妥善保管：与数据库备份分开存放，不要提交到代码库，不要通过聊天工具或邮件发送。"
    "密钥丢失后，已加密的群众手机号和身份证号将无法恢复；"
    "已有数据的系统不能随意更换密钥，否则原有数据无法解密。"
)


class Command(BaseCommand):
    help = "生成新的数据密钥（PINGAN_DATA_KEY），用于加密群众手机号和身份证号。"

    def handle(self, *args, **options) -> None:
        # The key alone on stdout (so `KEY=$(pingan generate_data_key)` works); advice on stderr.
        self.stdout.write(generate_master_key())
        self.stderr.write(ADVICE, style_func=self.style.WARNING)
