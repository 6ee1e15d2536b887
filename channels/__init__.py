"""Channels: the conversation services (USSD, SMS) and one thin adapter per gateway.

Adapters translate a gateway's request into a normalised ``Turn`` and a ``Reply`` back into the
gateway's format; the services never see a gateway's field names.
"""
