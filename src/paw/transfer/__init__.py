"""paw.transfer"""
