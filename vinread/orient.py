"""Any orientation: reading VINs printed vertically or upside down.

Segmentation handles a skew of a few tens of degrees; for the rest the photo
is read again turned by a quarter, half or three quarters of a turn, and the
boxes are mapped back to the photo's own pixels.

>>> unrotate_boxes([[0, 0, 10, 4]], 90, (100, 50))   # turned 90 ccw: (W=50) x (H=100)
[[46, 0, 4, 10]]
"""
from __future__ import annotations

import cv2
import numpy as np

TURNS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 270: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180}
"""Text angle (degrees, clockwise in the photo) -> the OpenCV turn that makes it upright."""


def rotate(image: np.ndarray, angle: int) -> np.ndarray:
    """Turn ``image`` so that text running at ``angle`` (90, 180 or 270 degrees clockwise) is upright."""
    return cv2.rotate(image, TURNS[angle])


def unrotate_boxes(boxes, angle: int, shape: tuple[int, int]) -> list[list[int]]:
    """Boxes (x, y, w, h) found in ``rotate(image, angle)`` -> boxes in ``image`` of ``shape`` (H, W)."""
    h, w = shape[:2]
    out = []
    for x, y, bw, bh in boxes:
        x0, y0, x1, y1 = x, y, x + bw, y + bh
        if angle == 90:       # upright = original turned ccw: original (c, r) = (W - y_r, x_r)
            xs, ys = (w - y1, w - y0), (x0, x1)
        elif angle == 270:    # upright = original turned cw: original (c, r) = (y_r, H - x_r)
            xs, ys = (y0, y1), (h - x1, h - x0)
        else:                 # 180
            xs, ys = (w - x1, w - x0), (h - y1, h - y0)
        out.append([int(min(xs)), int(min(ys)), int(abs(xs[1] - xs[0])), int(abs(ys[1] - ys[0]))])
    return out
