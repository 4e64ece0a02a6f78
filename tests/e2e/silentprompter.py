"""A gnome-keyring system prompter that accepts every prompt and never shows one (run as a script).

It owns ``org.gnome.keyring.SystemPrompter`` on the session bus before gnome-keyring looks for
one, and answers its ``BeginPrompting`` call; gnome-keyring then waits for the prompter's
``PromptReady``, which never comes: an unlock prompt that can never appear, as a prompter on a
display no one sees. (Without an answer gnome-keyring gives up after GDBus's 25 s, and without
any prompter it dismisses the prompt at once.) Prints ``ready``, then each method it was called
with, one a line.
"""

from __future__ import annotations

from jeepney import new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection
from jeepney.low_level import HeaderFields, MessageType

NAME = "org.gnome.keyring.SystemPrompter"
DO_NOT_QUEUE = 4  # RequestName's flag: fail rather than wait in line


def main() -> None:
    """Own the name, then accept every call and do nothing more."""
    conn = open_dbus_connection("SESSION")
    reply = conn.send_and_get_reply(message_bus.RequestName(NAME, DO_NOT_QUEUE), timeout=10)
    if reply.body != (1,):  # 1: DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        raise SystemExit(f"could not own {NAME}: {reply.body}")
    print("ready", flush=True)
    while True:
        msg = conn.receive()
        if msg.header.message_type == MessageType.method_call:
            print(msg.header.fields.get(HeaderFields.member), flush=True)
            conn.send(new_method_return(msg))


if __name__ == "__main__":
    main()
