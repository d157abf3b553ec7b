"""The Azure adapter. ``client.py`` is the only portal module that imports azure.*"""
