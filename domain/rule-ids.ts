/**
 * The rule IDs of docs/RULES.md that the domain functions enforce.
 * Every refusal and every refund names one of them, so that support, logs and
 * tests can point at the clause that decided.
 */
export type RuleId =
  | 'R-PRICE-SNAPSHOT'
  | 'R-CHARGE'
  | 'R-CHARGE-MAX'
  | 'R-SUBSCRIPTION-UNSERVED'
  | 'R-MINMAX'
  | 'R-ONE-ACTIVE-PER-LINK'
  | 'R-START-WINDOW'
  | 'R-CANCEL-FULL'
  | 'R-PARTIAL'
  | 'R-CANCEL-REQUEST'
  | 'R-CANCEL-STALLED'
  | 'R-AUTO-CANCEL'
  | 'R-NO-REFUND-DONE'
  | 'R-CANCEL-NO-REFUND'
  | 'R-REFILL-SERVICE'
  | 'R-REFILL-STATUS'
  | 'R-REFILL-COOLDOWN'
  | 'R-REFILL-WINDOW'
  | 'R-REFILL-NEED'
  | 'R-REFILL-VOID'
  | 'R-REFILL-SUPPORT'
  | 'R-SUBSTITUTE'
  | 'R-BLOCKED'
  | 'R-BALANCE';
