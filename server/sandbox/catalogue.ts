/**
 * The sandbox's model catalogue, in the shape of OpenRouter's `GET /models`.
 * Prices are strings of USD per token (`request`: USD per request), as on
 * OpenRouter, and mirror its public prices so test-mode bills look real.
 */

export interface ModelPricing {
  prompt: string;
  completion: string;
  request: string;
  image: string;
  web_search: string;
  internal_reasoning: string;
  input_cache_read: string;
  input_cache_write: string;
}

export interface CatalogueModel {
  id: string;
  name: string;
  created: number;
  description: string;
  context_length: number;
  architecture: {
    modality: string;
    input_modalities: string[];
    output_modalities: string[];
    tokenizer: string;
  };
  pricing: ModelPricing;
  top_provider: {
    context_length: number;
    max_completion_tokens: number;
    is_moderated: boolean;
  };
  supported_parameters: string[];
}

const COMMON_PARAMETERS = [
  "max_tokens",
  "temperature",
  "top_p",
  "stop",
  "frequency_penalty",
  "presence_penalty",
  "seed",
];
const TOOL_PARAMETERS = ["tools", "tool_choice"];
const OPENAI_PARAMETERS = [
  ...COMMON_PARAMETERS,
  ...TOOL_PARAMETERS,
  "logit_bias",
  "logprobs",
  "top_logprobs",
  "response_format",
  "structured_outputs",
];

function pricing(
  prompt: string,
  completion: string,
  extra: Partial<ModelPricing> = {},
): ModelPricing {
  return {
    prompt,
    completion,
    request: "0",
    image: "0",
    web_search: "0",
    internal_reasoning: "0",
    input_cache_read: "0",
    input_cache_write: "0",
    ...extra,
  };
}

const TEXT_ONLY = {
  modality: "text->text",
  input_modalities: ["text"],
  output_modalities: ["text"],
};
const TEXT_IMAGE = {
  modality: "text+image->text",
  input_modalities: ["text", "image"],
  output_modalities: ["text"],
};

export const catalogue: { readonly data: readonly CatalogueModel[] } = {
  data: [
    {
      id: "openai/gpt-4o-mini",
      name: "OpenAI: GPT-4o-mini",
      created: 1721260800,
      description:
        "GPT-4o mini is OpenAI's small, affordable multimodal model for fast, lightweight tasks.",
      context_length: 128000,
      architecture: { ...TEXT_IMAGE, tokenizer: "GPT" },
      pricing: pricing("0.00000015", "0.0000006", {
        image: "0.000217",
        input_cache_read: "0.000000075",
      }),
      top_provider: {
        context_length: 128000,
        max_completion_tokens: 16384,
        is_moderated: true,
      },
      supported_parameters: OPENAI_PARAMETERS,
    },
    {
      id: "openai/gpt-4o",
      name: "OpenAI: GPT-4o",
      created: 1715558400,
      description:
        "GPT-4o is OpenAI's flagship multimodal model with text and image input.",
      context_length: 128000,
      architecture: { ...TEXT_IMAGE, tokenizer: "GPT" },
      pricing: pricing("0.0000025", "0.00001", {
        image: "0.003613",
        input_cache_read: "0.00000125",
      }),
      top_provider: {
        context_length: 128000,
        max_completion_tokens: 16384,
        is_moderated: true,
      },
      supported_parameters: OPENAI_PARAMETERS,
    },
    {
      id: "anthropic/claude-sonnet-4",
      name: "Anthropic: Claude Sonnet 4",
      created: 1747930371,
      description:
        "Claude Sonnet 4 balances capability and speed for coding and reasoning tasks.",
      context_length: 200000,
      architecture: { ...TEXT_IMAGE, tokenizer: "Claude" },
      pricing: pricing("0.000003", "0.000015", {
        image: "0.0048",
        input_cache_read: "0.0000003",
        input_cache_write: "0.00000375",
      }),
      top_provider: {
        context_length: 200000,
        max_completion_tokens: 64000,
        is_moderated: false,
      },
      supported_parameters: [
        ...TOOL_PARAMETERS,
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "stop",
        "reasoning",
        "include_reasoning",
      ],
    },
    {
      id: "google/gemini-2.5-flash",
      name: "Google: Gemini 2.5 Flash",
      created: 1750172488,
      description:
        "Gemini 2.5 Flash is Google's fast reasoning model for everyday tasks.",
      context_length: 1048576,
      architecture: { ...TEXT_IMAGE, tokenizer: "Gemini" },
      pricing: pricing("0.0000003", "0.0000025", {
        image: "0.001238",
        input_cache_read: "0.000000075",
        input_cache_write: "0.0000003833",
      }),
      top_provider: {
        context_length: 1048576,
        max_completion_tokens: 65535,
        is_moderated: false,
      },
      supported_parameters: [
        ...COMMON_PARAMETERS,
        ...TOOL_PARAMETERS,
        "response_format",
        "structured_outputs",
        "reasoning",
        "include_reasoning",
      ],
    },
    {
      id: "meta-llama/llama-3.3-70b-instruct",
      name: "Meta: Llama 3.3 70B Instruct",
      created: 1733506137,
      description:
        "Llama 3.3 70B is Meta's multilingual instruction-tuned text model.",
      context_length: 131072,
      architecture: { ...TEXT_ONLY, tokenizer: "Llama3" },
      pricing: pricing("0.00000013", "0.0000004"),
      top_provider: {
        context_length: 131072,
        max_completion_tokens: 16384,
        is_moderated: false,
      },
      supported_parameters: [
        ...COMMON_PARAMETERS,
        ...TOOL_PARAMETERS,
        "top_k",
        "repetition_penalty",
        "response_format",
      ],
    },
    {
      id: "meta-llama/llama-3.2-3b-instruct:free",
      name: "Meta: Llama 3.2 3B Instruct (free)",
      created: 1727222400,
      description:
        "Llama 3.2 3B is a small multilingual model; this free variant is rate limited.",
      context_length: 131072,
      architecture: { ...TEXT_ONLY, tokenizer: "Llama3" },
      pricing: pricing("0", "0"),
      top_provider: {
        context_length: 131072,
        max_completion_tokens: 4096,
        is_moderated: false,
      },
      supported_parameters: [...COMMON_PARAMETERS, "top_k"],
    },
    {
      // A per-request price, so consumers must account for `request` too.
      id: "perplexity/sonar",
      name: "Perplexity: Sonar",
      created: 1738013808,
      description:
        "Sonar answers with web-grounded citations; it is billed per token and per request.",
      context_length: 127072,
      architecture: { ...TEXT_IMAGE, tokenizer: "Other" },
      pricing: pricing("0.000001", "0.000001", {
        request: "0.005",
        image: "0",
      }),
      top_provider: {
        context_length: 127072,
        max_completion_tokens: 8000,
        is_moderated: false,
      },
      supported_parameters: [
        "max_tokens",
        "temperature",
        "top_p",
        "top_k",
        "frequency_penalty",
        "presence_penalty",
        "web_search_options",
      ],
    },
  ],
};

const byId = new Map(catalogue.data.map((model) => [model.id, model]));

/** The catalogue entry for a model id, or undefined if the sandbox lacks it. */
export function findModel(id: string): CatalogueModel | undefined {
  return byId.get(id);
}
