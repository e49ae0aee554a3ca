"""paw.toy"""
