// The percent-escape rule of the query string: % without two hex digits, and escapes that are not
// UTF-8, are found and named; everything decodeURIComponent takes passes.
import { describe, expect, it } from 'vitest';
import { findBadEscape } from '../../../src/listeners/http/query-escapes.js';

describe('findBadEscape', () => {
  it('passes what decodeURIComponent decodes', () => {
    for (const ok of ['', 'name=x.example&type=TXT', 'a=%41%42', 'n=%C3%A9%F0%9F%98%80', 'p=100%25', 'dns=AAABAAAB-_']) {
      expect(findBadEscape(ok), ok).toBeUndefined();
      expect(() => decodeURIComponent(ok)).not.toThrow();
    }
  });

  it('names a % without two hex digits', () => {
    expect(findBadEscape('name=%ZZ.com')).toMatchObject({ escape: '%ZZ', why: expect.stringMatching(/two hex digits/) });
    expect(findBadEscape('a=1&b=%')).toMatchObject({ escape: '%' });
    expect(findBadEscape('a=%4')).toMatchObject({ escape: '%4' });
    expect(findBadEscape('a=%41%4g')).toMatchObject({ escape: '%4g' });
  });

  it('names escapes whose bytes are not UTF-8', () => {
    expect(findBadEscape('name=%ff.example')).toEqual({ escape: '%ff', why: 'the bytes it stands for are not UTF-8' });
    expect(findBadEscape('name=%C3.example')).toMatchObject({ escape: '%C3' });
    expect(findBadEscape('ok=%C3%A9&bad=%ED%A0%80')).toMatchObject({ escape: '%ED%A0%80' });
  });
});
