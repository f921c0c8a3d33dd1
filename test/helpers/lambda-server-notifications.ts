/**
 * S3 bucket notification configuration for the loopback server (s3rver does not implement it):
 * the XML the real @aws-sdk/client-s3 sends and reads, parsed with a small reader for this fixed schema,
 * and S3's overlap check ("Configuration is ambiguously defined...").
 */

export type DestinationKind = 'Topic' | 'Queue' | 'CloudFunction';

/** One entry of a bucket's notification configuration. */
export interface NotificationEntry {
  readonly kind: DestinationKind;
  readonly id: string;
  readonly arn: string;
  readonly events: readonly string[];
  readonly rules: readonly { readonly name: string; readonly value: string }[];
}

export interface BucketNotification {
  readonly entries: readonly NotificationEntry[];
  readonly eventBridge: boolean;
}

const decode = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');
const encode = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const all = (xml: string, tag: string) =>
  [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]);
const one = (xml: string, tag: string) => all(xml, tag)[0];

/** Parses a PutBucketNotificationConfiguration body; throws a message for malformed XML. */
export function parseNotificationXml(xml: string, newId: () => string): BucketNotification {
  if (!/<NotificationConfiguration[\s>]/.test(xml) && !/<NotificationConfiguration\/>/.test(xml))
    throw new Error('The XML you provided was not well-formed or did not validate against our published schema');
  const entries: NotificationEntry[] = [];
  for (const kind of ['Topic', 'Queue', 'CloudFunction'] as const) {
    for (const block of all(xml, `${kind}Configuration`)) {
      const arn = one(block, kind);
      if (!arn) throw new Error(`${kind}Configuration without ${kind}`);
      entries.push({
        kind,
        id: decode(one(block, 'Id') ?? newId()),
        arn: decode(arn),
        events: all(block, 'Event').map(decode),
        rules: all(block, 'FilterRule').map((rule) => ({
          name: decode(one(rule, 'Name') ?? ''),
          value: decode(one(rule, 'Value') ?? ''),
        })),
      });
    }
  }
  return { entries, eventBridge: /<EventBridgeConfiguration\s*\/?>/.test(xml) };
}

/** Serialises a configuration as GetBucketNotificationConfiguration answers it. */
export function notificationXml(config: BucketNotification): string {
  const parts = config.entries.map((entry) => {
    const rules = entry.rules
      .map((rule) => `<FilterRule><Name>${encode(rule.name)}</Name><Value>${encode(rule.value)}</Value></FilterRule>`)
      .join('');
    const filter = entry.rules.length > 0 ? `<Filter><S3Key>${rules}</S3Key></Filter>` : '';
    const events = entry.events.map((e) => `<Event>${encode(e)}</Event>`).join('');
    return (
      `<${entry.kind}Configuration><Id>${encode(entry.id)}</Id>` +
      `<${entry.kind}>${encode(entry.arn)}</${entry.kind}>${events}${filter}</${entry.kind}Configuration>`
    );
  });
  if (config.eventBridge) parts.push('<EventBridgeConfiguration></EventBridgeConfiguration>');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration ` +
    `xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</NotificationConfiguration>`
  );
}

const rule = (entry: NotificationEntry, name: string) =>
  entry.rules.find((r) => r.name.toLowerCase() === name)?.value ?? '';
/** s3:ObjectCreated:* overlaps s3:ObjectCreated:Put; equal events overlap. */
const eventsOverlap = (a: string, b: string) =>
  a === b || (a.endsWith('*') && b.startsWith(a.slice(0, -1))) || (b.endsWith('*') && a.startsWith(b.slice(0, -1)));

/**
 * S3 refuses two entries for overlapping events whose prefixes and suffixes both overlap. Returns S3's message or null.
 */
export function findOverlap(config: BucketNotification): string | null {
  const { entries } = config;
  for (let i = 0; i < entries.length; i++) {
    for (let j = i + 1; j < entries.length; j++) {
      const a = entries[i];
      const b = entries[j];
      if (a.id === b.id) return 'Same ID used for multiple configurations. IDs must be unique';
      const events = a.events.some((x) => b.events.some((y) => eventsOverlap(x, y)));
      const [pa, pb] = [rule(a, 'prefix'), rule(b, 'prefix')];
      const [sa, sb] = [rule(a, 'suffix'), rule(b, 'suffix')];
      const prefixes = pa.startsWith(pb) || pb.startsWith(pa);
      const suffixes = sa.endsWith(sb) || sb.endsWith(sa);
      if (events && prefixes && suffixes)
        return (
          'Configuration is ambiguously defined. Cannot have overlapping suffixes in two ' +
          'rules if the prefixes are overlapping for the same event type.'
        );
    }
  }
  return null;
}
