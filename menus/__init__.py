"""The conversation engine and the menu trees.

Pure Python: nothing here imports Flask, Redis or SQLAlchemy. ``engine.start``/``engine.step`` turn
(tree, state, input) into (screen, new state, events); the channels and storage act on the events.
"""
