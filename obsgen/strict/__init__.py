"""Strict models of the configs obsgen emits, modelled on each tool's own decoder.

Every rendered artifact is parsed back and checked here: an unknown key, a wrong type or a
dangling reference is a defect in obsgen, caught before the file reaches disk.
"""
