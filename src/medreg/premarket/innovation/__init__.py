"""innovation"""
