// The label-collection module in one include: mock labelers (lexicon, reward model, token count),
// questions for labelers with the paper's rejection sampling, question and label files, agreement.
#pragma once

#include "rlhf/labelers/agreement.h"
#include "rlhf/labelers/labeler.h"
#include "rlhf/labelers/lexicon.h"
#include "rlhf/labelers/questions.h"
