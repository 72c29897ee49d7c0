/** Checks on free-text arguments (labels, reasons): bounded, printable, stored exactly as given. */
import { ContractError } from './errors.js';

// Control, format (bidi!), surrogate, private-use and unassigned code points: a label a person
// reads must be the label stored.
const UNPRINTABLE = /\p{C}/u;

export function checkText(value: string, what: string, max: number, options: { required: boolean }): string {
  let problem: string | undefined;
  if (options.required && value.length === 0) problem = 'is required';
  else if ([...value].length > max) problem = `is longer than ${max} characters`;
  else if (UNPRINTABLE.test(value)) problem = 'contains control or format characters';
  else if (value !== value.trim()) problem = 'starts or ends with white space';
  else if (value.normalize('NFC') !== value) problem = 'is not in Unicode NFC';
  if (problem) throw new ContractError('BAD_REQUEST', `${what} ${problem}`);
  return value;
}
