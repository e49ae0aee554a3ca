"""paw.evaluation"""
