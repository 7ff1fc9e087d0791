// The local records stage alone: a name it holds is answered authoritatively (records for a type
// it has, NODATA for one it lacks), matched without regard to ASCII case; other names go on.
import { describe, expect, it } from 'vitest';
import { RRType, Rcode } from '../../dns/constants.js';
import { stageUnderTest, upstreamAnswer } from '../testing/harness.js';
import { LocalRecordsStage, type LocalRecord } from './local-records-stage.js';

const RECORDS: LocalRecord[] = [
  { name: '_dnslink.site.example', type: 'TXT', ttl: 60, data: 'dnslink=/ipfs/bafy' },
  { name: '_dnslink.site.example', type: 'TXT', ttl: 60, data: ['dnslink=/ipns/', 'site2.example'] },
  { name: 'www.site.example.', type: 'A', ttl: 30, data: '192.0.2.1' },
  { name: 'long.site.example', type: 'TXT', ttl: 10, data: 'x'.repeat(300) },
];
const fromNext = upstreamAnswer();

describe('local records stage', () => {
  it('answers a name and type it holds authoritatively and synchronously, every record of it', () => {
    const { next, ask } = stageUnderTest(new LocalRecordsStage(RECORDS), fromNext);
    const res = ask('_dnslink.site.example', RRType.TXT);
    expect(res).not.toBeInstanceOf(Promise);
    expect(res).toMatchObject({ rcode: Rcode.NOERROR, source: 'local', authoritative: true });
    expect((res as { answers: unknown[] }).answers).toHaveLength(2);
    expect(next.calls).toBe(0);
  });

  it('matches names without regard to ASCII case, and a trailing dot in the file', () => {
    const { ask } = stageUnderTest(new LocalRecordsStage(RECORDS), fromNext);
    expect(ask('_DNSLINK.Site.EXAMPLE', RRType.TXT)).toMatchObject({ source: 'local' });
    expect(ask('www.site.example', RRType.A)).toMatchObject({ source: 'local', answers: [{ data: '192.0.2.1', ttl: 30 }] });
  });

  it('answers NODATA (NOERROR, no records, authoritative) for a type the name lacks', () => {
    const { next, ask } = stageUnderTest(new LocalRecordsStage(RECORDS), fromNext);
    expect(ask('www.site.example', RRType.AAAA)).toMatchObject({ rcode: Rcode.NOERROR, answers: [], authoritative: true, source: 'local' });
    expect(next.calls).toBe(0);
  });

  it('passes names it does not hold to the next stage', async () => {
    const { next, ask } = stageUnderTest(new LocalRecordsStage(RECORDS), fromNext);
    expect(await ask('other.example', RRType.TXT)).toBe(fromNext);
    expect(await ask('site.example', RRType.TXT)).toBe(fromNext); // a parent of a held name is not held
    expect(next.calls).toBe(2);
  });

  it('pre-encodes its answers, splitting TXT strings over 255 bytes', () => {
    const stage = new LocalRecordsStage(RECORDS);
    const { ask } = stageUnderTest(stage, fromNext);
    const res = ask('long.site.example', RRType.TXT) as { encoded?: { answerCount: number; body: Buffer } };
    expect(res.encoded?.answerCount).toBe(1);
    const strings = Buffer.concat([Buffer.from([255]), Buffer.from('x'.repeat(255)), Buffer.from([45]), Buffer.from('x'.repeat(45))]);
    expect(res.encoded?.body.includes(strings)).toBe(true);
    expect(stage.size).toBe(3); // three (name, type) pairs
  });
});
