// The two function tools of the bench request below.
const tools = [
  { type: 'function', function: { name: 'get_quarterly_figures', description: 'Revenue, cost and margin of a quarter, by region.', strict: true, parameters: { type: 'object', properties: { year: { type: 'integer' }, quarter: { type: 'string', enum: ['Q1', 'Q2', 'Q3', 'Q4'] }, region: { type: ['string', 'null'], description: 'ISO region code, or null for all' } }, required: ['year', 'quarter', 'region'], additionalProperties: false } } },
  { type: 'function', function: { name: 'search_board_minutes', description: 'Full-text search over past board minutes.', parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 20 } }, required: ['query'] } } },
];
/**
 * What an agent sends (issue 11), the request every gateway bench measures: a system prompt, a user
 * turn and two function tools (one `strict`), `tool_choice: auto`, as chat-completions JSON.
 */
export const AGENT_CHAT_BODY = JSON.stringify({
  model: 'openai-compatible/default',
  messages: [
    { role: 'system', content: 'You are the finance assistant of Acme Corp. Answer in plain English, cite the figures you use, and call a tool when you need data you do not have.' },
    { role: 'user', content: 'Summarise our Q3 numbers for the board in two sentences.' },
  ],
  tools, tool_choice: 'auto', max_tokens: 64,
});
