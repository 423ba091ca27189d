"""The Zoho side: inventory() reads the current state, the other methods carry out changes."""
