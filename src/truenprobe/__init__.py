"""truenprobe: can video from this Truen camera reach this client through these routers?"""

__version__ = "0.1.0"
