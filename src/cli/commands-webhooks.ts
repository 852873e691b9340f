/** webhooks commands: the signing secret and the delivery log. */
import type { WebhookDelivery } from '@rallypoint/sdk';
import { int, str, type Command } from './command.js';
import { details, emit, table } from './output.js';

function deliveryRows(items: WebhookDelivery[]) {
  return items.map((d) => [
    d.delivery_id,
    d.event,
    d.state,
    d.attempts,
    d.last_status,
    d.next_attempt,
    d.session_id ?? d.request_id,
    d.url,
  ]);
}

export const webhookCommands: Command[] = [
  {
    path: ['webhooks', 'secret'],
    summary: 'Show the secret webhook signatures are made with',
    example: 'rallypoint webhooks secret',
    async run(ctx) {
      const result = await ctx.client().webhooks.getWebhookSecret();
      emit(ctx, result, () => `${result.webhook_secret}\n`);
    },
  },
  {
    path: ['webhooks', 'rotate-secret'],
    summary: 'Replace the webhook secret (later attempts use the new one)',
    example: 'rallypoint webhooks rotate-secret',
    async run(ctx) {
      const result = await ctx.client().webhooks.rotateWebhookSecret();
      emit(ctx, result, () => `${result.webhook_secret}\n`);
    },
  },
  {
    path: ['webhooks', 'deliveries'],
    summary: 'List recent webhook deliveries, newest first',
    example: 'rallypoint webhooks deliveries --session 950dd2eaff09-S',
    options: { session: { type: 'string' }, 'request-id': { type: 'string' }, limit: { type: 'string' } },
    optionHelp: [
      "--session <id>      only this session's deliveries",
      "--request-id <id>   only this deployment's deliveries",
      '--limit <n>         at most this many (default 50)',
    ],
    async run(ctx) {
      const session = str(ctx, 'session');
      const requestId = str(ctx, 'request-id');
      const limit = int(ctx, 'limit');
      const result = await ctx.client().webhooks.listWebhookDeliveries({
        ...(session ? { session_id: session } : {}),
        ...(requestId ? { request_id: requestId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      emit(ctx, result, () =>
        table(
          ['DELIVERY_ID', 'EVENT', 'STATE', 'ATTEMPTS', 'LAST_STATUS', 'NEXT_ATTEMPT', 'SUBJECT', 'URL'],
          deliveryRows(result.deliveries),
        ),
      );
    },
  },
  {
    path: ['webhooks', 'replay'],
    summary: 'Attempt a dead delivery again',
    args: '<delivery_id>',
    minArgs: 1,
    example: 'rallypoint webhooks replay 7f3c2a1b',
    async run(ctx) {
      const d = await ctx.client().webhooks.replayWebhookDelivery(ctx.positionals[0]!);
      emit(ctx, d, () =>
        details([
          ['delivery_id', d.delivery_id],
          ['state', d.state],
          ['attempts', d.attempts],
          ['next_attempt', d.next_attempt],
        ]),
      );
    },
  },
];
