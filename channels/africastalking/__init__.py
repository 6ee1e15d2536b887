"""Africa's Talking: USSD (this package's ``ussd``) and SMS adapters. Thin translations only."""
