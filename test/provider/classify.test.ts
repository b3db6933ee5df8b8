import { classifyAddErrorText, classifyAddOutcome } from '../../activities/provider/classify';
import { describeFetchFailure } from '../../activities/provider/http';

const answer = (bodyText: string, httpStatus = 200) => classifyAddOutcome({ type: 'answer', httpStatus, bodyText });

describe('classifyAddOutcome: answers that prove the order exists', () => {
  it.each([
    ['{"order": 23501}', '23501'],
    ['{"order":"23501"}', '23501'],
    ['{"order":" 23501 "}', '23501'],
    ['\uFEFF {"order": 7} ', '7'],
  ])('an order id (%s) is placed with id %s, as a string', (body, id) => {
    expect(answer(body)).toEqual({ kind: 'placed', providerOrderId: id });
  });

  it('an order id wins even on an odd HTTP status: the id is proof the order exists', () => {
    expect(answer('{"order": 9}', 500)).toEqual({ kind: 'placed', providerOrderId: '9' });
  });
});

describe('classifyAddOutcome: R-AUTO-CANCEL refusals (not placed, waiting will not help)', () => {
  it.each([
    ['Bad link', 'bad_link'],
    ['Invalid link format', 'bad_link'],
    ['Incorrect service ID', 'incorrect_service'],
    ['Service is disabled', 'incorrect_service'],
    ['Quantity less than minimal 50', 'quantity'],
    ['Quantity more than maximum 10000', 'quantity'],
    ['Account is private', 'private_account'],
    ['This account is closed', 'private_account'],
    ['Post not found', 'private_account'],
    ['Like counter is hidden, please enable it', 'counter_disabled'],
    ['Incorrect request', 'invalid_request'],
    ['Comments are required for this service', 'invalid_request'],
  ])('R-AUTO-CANCEL: {"error":"%s"} is refused (%s)', (text, code) => {
    expect(answer(JSON.stringify({ error: text }))).toEqual({ kind: 'refused', code, reason: text });
  });

  it('R-AUTO-CANCEL: matching is case-insensitive', () => {
    expect(answer('{"error":"BAD LINK"}')).toMatchObject({ kind: 'refused', code: 'bad_link' });
  });

  it('a refusal answered with HTTP 400 is still read from the body', () => {
    expect(answer('{"error":"Bad link"}', 400)).toMatchObject({ kind: 'refused', code: 'bad_link' });
  });
});

describe('classifyAddOutcome: temporary refusals are retry_later (not placed, try again with backoff)', () => {
  it.each([
    ['Not enough funds on balance', 'funds'],
    ['Insufficient balance, please top up', 'funds'],
    ['You have active order with this link. Please wait until order being completed.', 'active_order'],
    ['Invalid API key', 'auth'],
    ['API key is incorrect', 'auth'],
    ['Too many requests', 'rate_limit'],
    ['Service is temporarily unavailable', 'temporary'],
    ['Server under maintenance, try again later', 'temporary'],
  ])('{"error":"%s"} is retry_later (%s)', (text, code) => {
    expect(answer(JSON.stringify({ error: text }))).toEqual({ kind: 'retry_later', code, reason: text });
  });

  it('decision: an unknown error text that does not read as a validation refusal is retry_later, never uncertain', () => {
    expect(answer('{"error":"Something happened on our side (code 17)"}')).toEqual({
      kind: 'retry_later',
      code: 'unknown_error',
      reason: 'Something happened on our side (code 17)',
    });
  });

  it('decision: an unknown error text that reads as a validation refusal ("... is invalid") is refused', () => {
    expect(classifyAddErrorText('The hashtag parameter is invalid')).toEqual({ kind: 'refused', code: 'invalid_request' });
  });

  it('temporary wording wins over validation wording ("invalid" inside "Invalid API key" is not a refusal)', () => {
    expect(classifyAddErrorText('Invalid API key')).toEqual({ kind: 'retry_later', code: 'auth' });
    expect(classifyAddErrorText('You must wait 5 minutes between orders')).toEqual({ kind: 'retry_later', code: 'temporary' });
  });

  it('HTTP 429 without a JSON body is retry_later (rate limiter answered before the application)', () => {
    expect(answer('<html>slow down</html>', 429)).toMatchObject({ kind: 'retry_later', code: 'rate_limit' });
  });

  it('a connection that was never made (refused, DNS) is retry_later: the request cannot have been received', () => {
    expect(classifyAddOutcome({ type: 'failure', failure: 'not_sent', message: 'ECONNREFUSED' })).toMatchObject({
      kind: 'retry_later',
      code: 'not_sent',
    });
  });
});

describe('classifyAddOutcome: ambiguous outcomes are uncertain (never retried blindly)', () => {
  it.each([
    ['', 200, 'empty_body'],
    ['   \n', 200, 'empty_body'],
    ['<html><body>502 Bad Gateway</body></html>', 200, 'non_json'],
    ['<html>500</html>', 500, 'http_5xx'],
    ['{"error":"Internal error"}', 503, 'http_5xx'],
    ['{"status":"success"}', 200, 'unexpected_answer'],
    ['{"order":0}', 200, 'unexpected_answer'],
    ['{"order":null}', 200, 'unexpected_answer'],
    ['[]', 200, 'unexpected_answer'],
    ['', 302, 'empty_body'],
  ])('body %j with HTTP %i is uncertain (%s)', (body, status, code) => {
    expect(answer(body, status)).toMatchObject({ kind: 'uncertain', code });
  });

  it('a timeout is uncertain', () => {
    expect(classifyAddOutcome({ type: 'failure', failure: 'timeout', message: 'timeout after 2000 ms' })).toMatchObject({
      kind: 'uncertain',
      code: 'timeout',
    });
  });

  it('a connection lost after sending is uncertain', () => {
    expect(classifyAddOutcome({ type: 'failure', failure: 'connection_lost', message: 'other side closed' })).toMatchObject({
      kind: 'uncertain',
      code: 'connection_lost',
    });
  });
});

describe('describeFetchFailure', () => {
  const fetchFailed = (cause: unknown) => Object.assign(new TypeError('fetch failed'), { cause });

  it('our own timeout is a timeout whatever the error', () => {
    expect(describeFetchFailure(new Error('aborted'), true)).toBe('timeout');
  });

  it('ECONNREFUSED and DNS failures mean not sent', () => {
    expect(describeFetchFailure(fetchFailed(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })), false)).toBe('not_sent');
    expect(describeFetchFailure(fetchFailed(Object.assign(new Error('dns'), { code: 'ENOTFOUND' })), false)).toBe('not_sent');
    const agg = Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), { code: 'ECONNREFUSED' });
    expect(describeFetchFailure(fetchFailed(agg), false)).toBe('not_sent');
  });

  it('a reset or a closed socket means the request may have been received', () => {
    expect(describeFetchFailure(fetchFailed(Object.assign(new Error('reset'), { code: 'ECONNRESET' })), false)).toBe('connection_lost');
    expect(describeFetchFailure(fetchFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), false)).toBe('connection_lost');
    expect(describeFetchFailure(new Error('mystery'), false)).toBe('connection_lost');
  });
});
