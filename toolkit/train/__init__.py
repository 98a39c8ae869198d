"""Fine-tuning a seq2seq translator on exported training data."""
