"""Device drivers: catalogue, register maps as data, decoding, simulated twins."""
