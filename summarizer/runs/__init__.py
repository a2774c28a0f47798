"""Many articles → an output folder: inputs, the store, outputs, the realtime and batch routes."""
