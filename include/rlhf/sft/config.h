// Configuration of supervised fine-tuning (`rlhf sft`): the paper's supervised baseline (fine-tune on
// (query, reference response) pairs, loss on the response only) and plain causal-LM training on text,
// which is also how a small GPT-2 is made from scratch (`init_config`).
#pragma once

#include <optional>
#include <string>

#include "rlhf/config/config.h"
#include "rlhf/core/runtime.h"

namespace rlhf::sft {

struct SftDataOptions {
  std::string path;                    // the training data
  std::string mode = "lm";             // lm: documents packed into blocks | pairs: (query, response)
  std::string format = "auto";         // see visit; pairs take jsonl or json
  std::string field = "text";          // lm, jsonl/json objects: the key holding the text
  std::string query_key = "query";     // pairs: key of the query
  std::string response_key = "response";  // pairs: key of the reference response
  bool end_of_text = true;             // pairs: end every response with <|endoftext|> (learned too)
  std::string validation_path;         // held-out data in the same mode and format; "" = split from path
  double validation_fraction = 0.05;   // without validation_path: documents/pairs held out (0 = none)

  template <class V>
  void visit(V& v) {
    v.field("path", path, "Training data (a file; format fortune also takes a directory)");
    v.field("mode", mode,
            "lm: every document, followed by <|endoftext|>, concatenated and cut into sequence_length blocks "
            "(loss on every token) | pairs: query + response (+ <|endoftext|>) per row, loss on the response only",
            config::OneOf{{"lm", "pairs"}});
    v.field("format", format,
            "lm: auto | text (a document per line) | jsonl | json | books | fortune ('%'-separated entries; a "
            "file or a directory) | raw (the whole file is one document); pairs: auto | jsonl | json (objects "
            "with query_key and response_key). auto: a directory or a file with '%' lines is fortune, else the "
            "first non-blank line decides ('[' json, '{' jsonl, a JSON string books, else text)",
            config::OneOf{{"auto", "text", "jsonl", "json", "books", "fortune", "raw"}});
    v.field("field", field, "lm with jsonl or json objects: the key of the text");
    v.field("query_key", query_key, "pairs: the key of the query");
    v.field("response_key", response_key, "pairs: the key of the reference response");
    v.field("end_of_text", end_of_text, "pairs: end each response with <|endoftext|> and learn to produce it");
    v.field("validation_path", validation_path,
            "Held-out data (same mode, format and keys); empty = hold out validation_fraction of path");
    v.field("validation_fraction", validation_fraction,
            "Without validation_path: the fraction of documents (lm) or pairs held out, chosen by the seed",
            config::Range::between(0.0, 0.5));
  }
};

struct SftTrainingOptions {
  int sequence_length = 0;            // tokens per row the model reads; 0 = the model's n_positions
  int batch_size = 16;                // rows (blocks or pairs) per optimizer step
  int microbatch_size = 0;            // rows per forward pass (gradients accumulated); 0 = batch_size
  std::optional<double> lr;           // peak learning rate; unset: 1e-4 fine-tuning, 1e-3 from init_config
  std::string schedule = "cosine";    // after warm-up: cosine | linear to 0, or constant
  std::optional<int> warmup_steps;    // linear warm-up from 0; unset: 5% of the optimizer steps
  int epochs = 1;                     // passes over the training data (max_steps > 0 overrides)
  int max_steps = 0;                  // > 0: exactly this many optimizer steps (data repeats as needed)
  double weight_decay = 0.0;          // decoupled (AdamW) decay of matrices and embeddings; 0 = plain Adam
  double max_grad_norm = 1.0;         // clip the global gradient norm; 0 = no clipping
  std::optional<double> dropout;      // unset: 0.1 in pairs mode (the paper's baseline), 0 in lm mode
  std::string adam_style = "pytorch";
  double adam_eps = 1e-8;
  double adam_beta2 = 0.999;
  int eval_interval = 200;            // steps between validation passes (0 = only at the end)
  int eval_batches = 0;               // batches per validation pass; 0 = the whole validation set
  int save_interval = 200;            // steps between checkpoints (0 = none until the end)
  int log_interval = 10;              // steps between console lines

  template <class V>
  void visit(V& v) {
    v.field("sequence_length", sequence_length,
            "Tokens per row: block length in lm mode, the longest query + response in pairs mode (longer pairs "
            "are skipped); 0 = the model's n_positions",
            config::Range::at_least(0));
    v.field("batch_size", batch_size, "Rows (blocks or pairs) per optimizer step", config::Range::at_least(1));
    v.field("microbatch_size", microbatch_size,
            "Rows per forward pass, gradients accumulated over the batch (same result, less memory); 0 = the "
            "whole batch",
            config::Range::at_least(0));
    v.field("lr", lr,
            "Peak learning rate; unset: 1e-4 when fine-tuning a model (the paper swept 1e-4..3e-4), 1e-3 for a "
            "model made from init_config",
            config::Range::greater_than(0.0));
    v.field("schedule", schedule,
            "After warm-up: cosine (to 0 at the end, the paper's baseline) | linear (to 0) | constant",
            config::OneOf{{"cosine", "linear", "constant"}});
    v.field("warmup_steps", warmup_steps,
            "Steps of linear warm-up (step s uses lr * (s+1) / warmup_steps); unset: 5% of the run's steps",
            config::Range::at_least(0));
    v.field("epochs", epochs, "Passes over the training data (the paper's baseline: 1); ignored with max_steps",
            config::Range::at_least(1));
    v.field("max_steps", max_steps,
            "If > 0: train exactly this many optimizer steps, the schedule spanning them and the data repeating "
            "(reshuffled) as often as needed",
            config::Range::at_least(0));
    v.field("weight_decay", weight_decay,
            "Decoupled weight decay (AdamW) on weight matrices and embeddings, not on biases or LayerNorm",
            config::Range::between(0.0, 1.0));
    v.field("max_grad_norm", max_grad_norm, "Clip the global gradient norm to this; 0 = no clipping",
            config::Range::at_least(0.0));
    v.field("dropout", dropout,
            "Dropout rate (embeddings, attention, residual branches); unset: 0.1 in pairs mode (the paper's "
            "supervised baseline), 0 in lm mode",
            config::Range::between(0.0, 0.9));
    v.field("adam_style", adam_style, "Adam epsilon formulation: pytorch or tensorflow (the paper's RL code)",
            config::OneOf{{"pytorch", "tensorflow"}});
    v.field("adam_eps", adam_eps, "Adam epsilon", config::Range::greater_than(0.0));
    v.field("adam_beta2", adam_beta2, "Adam beta2 (beta1 is 0.9)", config::Range::in_open_closed(0.0, 1.0));
    v.field("eval_interval", eval_interval, "Steps between validation passes; 0 = only at the end",
            config::Range::at_least(0));
    v.field("eval_batches", eval_batches, "Batches per validation pass; 0 = the whole validation set",
            config::Range::at_least(0));
    v.field("save_interval", save_interval,
            "Steps between checkpoints (OUTPUT/checkpoint; a new run with the same output resumes from it); "
            "0 = none",
            config::Range::at_least(0));
    v.field("log_interval", log_interval, "Steps between console progress lines", config::Range::at_least(1));
  }
};

struct SftConfig {
  core::RuntimeConfig runtime;
  std::string model;         // a GPT-2 directory to fine-tune ...
  std::string init_config;   // ... or a Hugging Face config.json for a new model with random weights
  std::string tokenizer;     // tokenizer directory; "" = the model's (required with init_config)
  int tokenizer_merges = 0;  // > 0: keep only the first K merges of the BPE tokenizer (init_config only)
  SftDataOptions data;
  SftTrainingOptions training;
  std::string output;  // OUTPUT/model (final, Hugging Face layout), checkpoint/, metrics.jsonl

  template <class V>
  void visit(V& v) {
    v.section("runtime", runtime, "Device, threads, seed, logging, precision");
    v.field("model", model, "GPT-2 directory to fine-tune (Hugging Face layout); or use init_config");
    v.field("init_config", init_config,
            "A Hugging Face GPT-2 config.json: train a new model from GPT-2's random initialisation (seeded by "
            "runtime.seed); needs tokenizer");
    v.field("tokenizer", tokenizer,
            "Tokenizer directory (vocab.json + merges.txt, or encoder.json + vocab.bpe); default: the model's");
    v.field("tokenizer_merges", tokenizer_merges,
            "With init_config: keep only the first K merges of the BPE tokenizer, a vocabulary of 256 + K + 1 "
            "whose ids equal GPT-2's, <|endoftext|> = 256 + K; 0 = the whole tokenizer",
            config::Range::at_least(0));
    v.section("data", data, "What to train on");
    v.section("training", training, "Optimisation, schedule, evaluation and checkpoints");
    v.field("output", output,
            "Output directory: model/ (the final model, Hugging Face layout), checkpoint/ (resumed from when "
            "present), metrics.jsonl");
  }
  void check() const;  // one model source, tokenizer rules, output set; throws rlhf::Error naming the key
};

// The values the unset options stand for, given the configuration.
double effective_lr(const SftConfig& config);
double effective_dropout(const SftConfig& config);
std::int64_t effective_warmup_steps(const SftTrainingOptions& options, std::int64_t total_steps);

}  // namespace rlhf::sft
