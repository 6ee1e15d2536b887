"""The SMS framing of the engine, pure like it: the words SMS understands outside the menus
(``words``), cutting one message into answers (``answers``), what a message leads to
(``decisions``) and the SMS-only texts (``texts``). ``channels.sms`` does the I/O around them.
"""
