"""The features family: raw pixels, wavelet scattering and pretrained-backbone features as .npy arrays."""
