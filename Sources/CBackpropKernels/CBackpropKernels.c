// Header-only target: see include/CBackpropKernels.h.
