"""paw.reporting"""
