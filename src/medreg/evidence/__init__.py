"""Real-world evidence studies (measure IX): registered protocols, survival and comparative analyses."""
