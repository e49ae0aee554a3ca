"""paw.data"""
