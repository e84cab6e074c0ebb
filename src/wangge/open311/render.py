"""(skeleton: filled in by its slice of issue 14)"""
