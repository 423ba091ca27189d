"""The admin web page that ``hrsync serve`` serves."""
