"""Latent spaces and their rendering. Pure torch and numpy: no Django here."""
