"""Technician measurements for setting up and checking a lane's cameras (`edge calibrate ...`).

    frames.py      images from files, folders or a camera URL
    measures.py    focus (variance of the Laplacian), exposure and clipping
    sizes.py       plate character height and inter-eye distance in pixels, against their targets
    shutter.py     longest exposure that keeps motion blur within a pixel at the lane's speed
    geometry.py    ROI and perspective pre-warp from the four corners of a plate
    lens.py        intrinsics and distortion from checkerboard images
    drift.py       today's view against the calibrated baseline: focus, exposure, movement, content

Results go into the crossing's config through edge/config/edit.py (comments kept, backup made).
"""
