"""Is the evidence real? Static analysis of scripts and perturbation of their inputs."""
