"""Shared core of the toolkit: skeletons, cameras, hand-offs, registries, metrics, readers, the synthetic world.

Stages (``stage1_2d``, ``stage2_lift``, ``stage3_action``, ``joint``) import only this package.
"""
