"""Checkpoint Edge: the local application that runs the lanes of one border crossing."""
