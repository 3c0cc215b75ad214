"""Reading and writing: images, video, input discovery, picture grids. Imports only gincli.core."""
