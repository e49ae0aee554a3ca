"""paw.training"""
