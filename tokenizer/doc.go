// Package tokenizer is a SentencePiece-compatible subword tokenizer in pure Go: it
// reads and writes the .model format of SentencePiece, encodes and decodes text exactly
// as spm_encode and spm_decode do, and trains unigram and BPE models.
//
// # Models
//
// Load or Parse read a .model file (a ModelProto protobuf) as written by spm_train or
// by this package; Save (atomic) and Marshal write one. Fields the package does not
// interpret are kept, so a model read and written again is byte-for-byte the same.
// The reader checks the file as it decodes it and refuses files larger than
// MaxModelSize, models with more than MaxPieces pieces, and (Load) anything that is
// not a regular file, so a damaged file cannot make it take more memory than about
// twice its size plus a fixed amount per piece.
//
// Encoding runs the same pipeline as SentencePiece:
//
//   - normalization with the model's precompiled_charsmap (a darts-clone double-array
//     trie of rewrite rules, NFKC-based "nmt_nfkc" by default), user-defined pieces kept
//     verbatim, extra whitespace removed, spaces escaped as U+2581 and a dummy space
//     prefixed;
//   - segmentation: Viterbi over the piece lattice with the model's scores (unigram) or
//     merges of adjacent symbols in score order (BPE);
//   - unknown characters become the unknown ID (a run of them one ID), or byte pieces
//     <0xNN> when the model has byte fallback.
//
// Encode returns IDs, EncodePieces pieces; neither adds BOS or EOS. Decode and
// DecodePieces invert them. Special IDs are read from the model (PadID, EOSID, UnkID,
// BOSID); models made by Train use T5's layout by default: <pad>=0, </s>=1, <unk>=2.
//
// # Training
//
// Train learns a vocabulary from text files or strings. The files are read through
// ReadTrainingText's limits (MaxTrainingLineSize per line, TrainOptions.MaxInputSize
// in all) and must be regular files. Unigram training follows
// SentencePiece's recipe (seed pieces from the frequent substrings of a suffix array,
// EM with a Bayesian M-step, pruning by likelihood loss); BPE merges the most frequent
// pairs. The normalization rules are compiled from golang.org/x/text's Unicode tables
// the way spm_train builds nmt_nfkc, and stored in the model, so spm_encode encodes
// with a trained model exactly as this package does.
//
// The hypergrid command exposes all of this as "hypergrid tokenizer train|encode|decode".
package tokenizer
