"""A real SMTP server for adebox's alert tests: aiosmtpd (Debian's python3-aiosmtpd) with
STARTTLS required and AUTH (PLAIN/LOGIN) checked against one user name and password.

Usage: /usr/bin/python3 smtp_server.py PORT MAILDIR CERT_PEM KEY_PEM USER PASSWORD

Each accepted message is written to MAILDIR/NNNN.eml (the envelope recipients first, as an
X-Envelope-To line), atomically. Prints READY once listening and runs until stdin closes.
"""

import itertools
import os
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

port, maildir, cert, key, user, password = sys.argv[1:7]
counter = itertools.count(1)


class Handler:
    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        path = os.path.join(maildir, f"{n:04}.eml")
        with open(path + ".tmp", "wb") as f:
            f.write(b"X-Envelope-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(path + ".tmp", path)
        return f"250 OK stored as message {n}"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == user
        and auth_data.password.decode() == password
    )
    # handled=False: aiosmtpd then answers a refusal with its own 535.
    return AuthResult(success=ok, handled=False)


tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
tls.load_cert_chain(cert, key)
controller = Controller(
    Handler(),
    hostname="127.0.0.1",
    port=int(port),
    server_hostname="localhost",
    tls_context=tls,
    require_starttls=True,
    authenticator=authenticator,
    auth_required=True,
    ready_timeout=10,
)
controller.start()
print("READY", flush=True)
sys.stdin.read()
controller.stop()
