// Package hf reads and writes Hugging Face T5 model folders (T5ForConditionalGeneration:
// t5-small/base/…, google/t5-v1_1-*, google/flan-t5-*, google/t5-efficient-*, mt5).
//
// Read turns a folder — config.json, model.safetensors or the shards of
// model.safetensors.index.json, and spiece.model with tokenizer_config.json — into
// this program's architecture (model.Spec with ffn.glu and attn.t5) and weights:
// Hugging Face's nn.Linear weights, stored [out, in], are transposed to [in, out];
// shared.weight becomes the embedding (the encoder's and decoder's embed_tokens, and
// a tied lm_head, must be copies of it and are left out); F16 and BF16 are widened
// to float32 exactly. T5 v1.0 (feed_forward_proj "relu", tied embeddings with the
// d_model^-0.5 rescale before the tied head) and v1.1 ("gated-gelu", transformers'
// tanh gelu_new, untied lm_head) are both read, with separate encoder and decoder
// depths, the relative attention's buckets and max distance, and the norm's epsilon.
// A large file is read one tensor at a time (checkpoint.SafetensorsReader): peak
// memory is the weights plus one tensor. Model.Checkpoint makes an ordinary
// checkpoint of it, with a stored recipe that rebuilds the architecture, so that
// eval, predict, serve, logprobs and generate use it like a trained run.
//
// Export writes a model back as a folder transformers loads with
// T5ForConditionalGeneration.from_pretrained: config.json, model.safetensors (F32,
// the embedding once as shared.weight, as save_pretrained writes it) and the
// tokenizer files. A HyperGrid model exports one task when its gates do not depend
// on the input (task_embedding conditioning, or the GG composition): the task's gate
// grid is multiplied into the gated weights.
//
// The tests check both directions against an independent PyTorch implementation of
// transformers' T5 (testdata/t5_reference.py), when python3 with torch is installed.
package hf
