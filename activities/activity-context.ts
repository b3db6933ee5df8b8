import { Context } from '@temporalio/activity';

/** The activity Context when running inside Temporal; null when called directly (bench, scripts, tests). */
export function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}
